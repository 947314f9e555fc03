import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const MemorySchema = z.object({ lastProject: z.string().min(1) });

/** Remembers the last project folder between launches (a small JSON file in userData). */
export class ProjectMemory {
  constructor(private readonly file: string) {}

  last(): string | undefined {
    try {
      const parsed = MemorySchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success && existsSync(parsed.data.lastProject) ? parsed.data.lastProject : undefined;
    } catch {
      return undefined; // first launch, or a damaged file: ask again
    }
  }

  remember(root: string): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify({ lastProject: root }));
  }
}
