// Side-effect CSS imports are handled by vite.
declare module '*.css';
