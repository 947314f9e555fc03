// CI's apt sources come from the machine, not from us: .ci/backports-entry derives the
// backports entry from the machine's own apt configuration (run here against stand-in
// /etc/os-release and /etc/apt folders), and no file of the repository names a package
// registry or distribution mirror.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.js';
import { tempDir } from './support/project.js';

const SCRIPT = path.join(REPO_ROOT, '.ci', 'backports-entry');
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Runs the script against a machine with these files under /etc/apt (and this os-release). */
function derive(apt: Record<string, string>, osRelease = 'ID=debian\nVERSION_CODENAME=bookworm\n') {
  const root = tempDir();
  mkdirSync(path.join(root, 'apt', 'sources.list.d'), { recursive: true });
  for (const [name, text] of Object.entries(apt)) writeFileSync(path.join(root, 'apt', name), text);
  writeFileSync(path.join(root, 'os-release'), osRelease);
  const run = spawnSync('bash', [SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, KEIZOKU_APT_DIR: path.join(root, 'apt'), KEIZOKU_OS_RELEASE: path.join(root, 'os-release') },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const entry = (uris: string, signedBy?: string) =>
  `Types: deb\nURIs: ${uris}\nSuites: bookworm-backports\nComponents: main\n${signedBy ? `Signed-By: ${signedBy}\n` : ''}`;

describe.skipIf(process.platform === 'win32')('.ci/backports-entry', () => {
  it('copies the URI and Signed-By of the deb822 entry serving the release main suite', () => {
    const run = derive({
      'sources.list.d/debian.sources': [
        'Types: deb',
        '# a comment inside the stanza',
        'URIs: http://mirror.example.invalid/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        `Signed-By: ${KEYRING}`,
        '',
        'Types: deb',
        'URIs: http://mirror.example.invalid/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        `Signed-By: ${KEYRING}`,
        '',
      ].join('\n'),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(entry('http://mirror.example.invalid/debian', KEYRING));
  });

  it('passes over disabled entries, deb-src only entries and third-party ones without the main component', () => {
    const run = derive({
      'sources.list.d/a-vendor.sources': 'Types: deb\nURIs: https://vendor.example.invalid/linux/debian\nSuites: bookworm\nComponents: stable\nSigned-By: /etc/apt/keyrings/vendor.gpg\n',
      'sources.list.d/b-off.sources': 'Types: deb\nURIs: http://off.example.invalid/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n',
      'sources.list.d/c-src.sources': 'Types: deb-src\nURIs: http://src.example.invalid/debian\nSuites: bookworm\nComponents: main\n',
      'sources.list.d/d-debian.sources': 'Types: deb deb-src\nURIs: http://one.example.invalid/debian http://two.example.invalid/debian\nSuites: bookworm\nComponents: main contrib\n',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(entry('http://one.example.invalid/debian http://two.example.invalid/debian'));
  });

  it('keeps an embedded key (a multi-line Signed-By) as it was', () => {
    const key = ['-----BEGIN PGP PUBLIC KEY BLOCK-----', ' .', ' mQINBGRvZXN0', ' -----END PGP PUBLIC KEY BLOCK-----'];
    const run = derive({ 'sources.list.d/debian.sources': `Types: deb\nURIs: http://mirror.example.invalid/debian\nSuites: bookworm\nComponents: main\nSigned-By: ${key.join('\n')}\n` });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(entry('http://mirror.example.invalid/debian', key.join('\n')));
  });

  it('reads the one-line format too, options and all', () => {
    const run = derive({
      'sources.list': [
        '# deb http://commented.example.invalid/debian bookworm main',
        'deb-src http://src.example.invalid/debian bookworm main',
        `deb [arch=amd64 signed-by=${KEYRING}] http://mirror.example.invalid/debian bookworm main non-free-firmware`,
        'deb http://mirror.example.invalid/debian-security bookworm-security main',
        '',
      ].join('\n'),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(entry('http://mirror.example.invalid/debian', KEYRING));
  });

  it('adds nothing when backports is already configured', () => {
    const run = derive({
      'sources.list.d/debian.sources': 'Types: deb\nURIs: http://mirror.example.invalid/debian\nSuites: bookworm bookworm-backports\nComponents: main\n',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/already configured/);
  });

  it('skips with a warning when nothing serves the main suite, or the release has no codename', () => {
    const noMain = derive({ 'sources.list.d/other.sources': 'Types: deb\nURIs: http://mirror.example.invalid/debian\nSuites: trixie\nComponents: main\n' });
    expect(noMain.status).toBe(1);
    expect(noMain.stdout).toBe('');
    expect(noMain.stderr).toMatch(/warning: no apt source serves bookworm main/);
    const noCodename = derive({ 'sources.list': 'deb http://mirror.example.invalid/debian bookworm main\n' }, 'ID=debian\n');
    expect(noCodename.status).toBe(1);
    expect(noCodename.stderr).toMatch(/warning: no VERSION_CODENAME/);
  });
});

/** Hosts of package registries and distribution mirrors (written as patterns, so this file does not match itself). */
const REGISTRY_OR_MIRROR = [
  /\bdeb\.debian\.org/,
  /\b(security|snapshot|ftp\.[a-z]+)\.debian\.org/,
  /\b(archive|security|ports)\.ubuntu\.com/,
  /\bregistry\.(npmjs\.org|yarnpkg\.com|npmmirror\.com)/,
  /\b(pypi\.org|files\.pythonhosted\.org)/,
  /\bproxy\.golang\.org/,
];

describe('the repository', () => {
  it('names no package registry or distribution mirror in any file it tracks (or is about to)', () => {
    const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    const files = listed.stdout.split('\0').filter((file) => file && !/\.(png|jpe?g|onnx|tflite)$/i.test(file));
    expect(files).toContain('.ci/run'); // the listing covers the CI script this check is for
    const offending = files.flatMap((file) => {
      let text: string;
      try {
        text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      } catch {
        return []; // listed but gone (deleted, not yet staged)
      }
      return REGISTRY_OR_MIRROR.filter((pattern) => pattern.test(text)).map((pattern) => `${file}: ${pattern.source}`);
    });
    expect(offending).toEqual([]);
  });
});
