// Debian source packages fetched with `apt-get source`, for what the mediasoup worker build
// (scripts/build-worker.mjs) takes from Debian's sources rather than its libraries.
//
// The deb-src entry is derived from the machine's own apt sources (the entry that serves
// its release), with the suites asked for, and kept in a private apt state under the
// cache: the machine's apt configuration is neither changed nor needed for writing, and
// no archive host is named here. Uses only Node's standard library.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function osCodename() {
  const text = fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : '';
  return /^VERSION_CODENAME=(\S+)$/m.exec(text)?.[1];
}

/** The machine's `deb` entries: deb822 `.sources` files and one-line `.list` files. */
export function aptEntries(etc = '/etc/apt') {
  const entries = [];
  const files = [path.join(etc, 'sources.list')];
  const dir = path.join(etc, 'sources.list.d');
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir).sort()) files.push(path.join(dir, f));
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1]?.trim();
        if (!(field('Types') ?? '').split(/\s+/).includes('deb') || /^no$/i.test(field('Enabled') ?? '')) continue;
        const suites = (field('Suites') ?? '').split(/\s+/).filter(Boolean);
        for (const uri of (field('URIs') ?? '').split(/\s+/).filter(Boolean)) {
          entries.push({ uri, suites, signedBy: field('Signed-By') });
        }
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m) entries.push({ uri: m[2], suites: [m[3]], signedBy: /signed-by=(\S+)/.exec(m[1] ?? '')?.[1] });
      }
    }
  }
  return entries;
}

/** A deb-src entry for `suites`, from the entry that serves this machine's release itself. */
export function derivedSourceEntry(entries, codename, suites) {
  const main = entries.find((e) => e.suites.includes(codename));
  if (!main) return undefined;
  return [
    'Types: deb-src',
    `URIs: ${main.uri}`,
    `Suites: ${suites.join(' ')}`,
    'Components: main',
    ...(main.signedBy ? [`Signed-By: ${main.signedBy}`] : []),
    '',
  ].join('\n');
}

export class DebianSources {
  /**
   * @param {string} dir where the private apt state lives
   * @param {string[]} suites the suites whose sources may be asked for
   */
  constructor(dir, suites) {
    this.dir = dir;
    this.suites = suites;
    this.updated = false;
  }

  #aptOptions() {
    const d = path.join(this.dir, 'apt');
    return [
      ...['-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${path.join(d, 'sources.list.d')}`],
      ...['-o', `Dir::State::Lists=${path.join(d, 'lists')}`, '-o', `Dir::Cache=${path.join(d, 'cache')}`],
      // Root would otherwise hand the download to the _apt user, who cannot enter the cache.
      ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
    ];
  }

  #update() {
    if (this.updated) return;
    const codename = osCodename();
    const entry = codename && derivedSourceEntry(aptEntries(), codename, this.suites);
    if (!entry) throw new Error(`no apt source for this machine's release (${codename ?? 'unknown'}) in /etc/apt`);
    for (const sub of ['sources.list.d', 'lists/partial', 'cache/archives/partial']) {
      fs.mkdirSync(path.join(this.dir, 'apt', sub), { recursive: true });
    }
    fs.writeFileSync(path.join(this.dir, 'apt', 'sources.list.d', 'debian-src.sources'), entry);
    const r = spawnSync('apt-get', [...this.#aptOptions(), '-q', 'update'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`apt-get update (deb-src) failed: ${(r.stderr || r.stdout || '').trim()}`);
    this.updated = true;
  }

  /**
   * Downloads the source package `pkg` of `suite` (its .dsc, upstream tarball and Debian
   * changes, unpacked by nobody) into a new directory under `into`; returns that directory.
   */
  download(pkg, suite, into) {
    this.#update();
    fs.mkdirSync(into, { recursive: true });
    const work = fs.mkdtempSync(path.join(into, `${pkg}-`));
    const r = spawnSync('apt-get', [...this.#aptOptions(), '-q', 'source', '--download-only', `${pkg}/${suite}`], {
      cwd: work,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      fs.rmSync(work, { recursive: true, force: true });
      throw new Error(`apt-get source ${pkg}/${suite} failed: ${(r.stderr || r.stdout || '').trim()}`);
    }
    return work;
  }
}
