// The floor for one forwarded packet on this machine: a tight native loop of SRTP
// protect (libsrtp2, as the mediasoup worker uses) of one RTP packet of the run's average
// size plus one sendto() over loopback, compiled here with gcc.
// The libsrtp2 is the worker's own: 2.5.0 on OpenSSL, built once (meson, about 20 s) from
// the source tarball scripts/build-worker.mjs caches. Without that tarball it falls back
// to Debian's libsrtp2 (NSS crypto, slower), and the result says which (`crypto`).
// CPU time per packet is read with CLOCK_PROCESS_CPUTIME_ID, so it holds while other
// processes run.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE = String.raw`
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu_now(void) {
  struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int size = argc > 1 ? atoi(argv[1]) : 1100;
  long iters = argc > 2 ? atol(argv[2]) : 200000;
  int gcm = argc > 3 ? atoi(argv[3]) : 1;
  if (srtp_init() != srtp_err_status_ok) return 1;
  srtp_policy_t p; memset(&p, 0, sizeof p);
  unsigned char key[64]; for (int i = 0; i < 64; i++) key[i] = (unsigned char)(i * 7 + 1);
  if (gcm) { srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp); srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp); }
  else { srtp_crypto_policy_set_rtp_default(&p.rtp); srtp_crypto_policy_set_rtcp_default(&p.rtcp); }
  p.ssrc.type = ssrc_any_outbound; p.key = key; p.window_size = 1024; p.allow_repeat_tx = 1;
  srtp_t s; if (srtp_create(&s, &p) != srtp_err_status_ok) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(0x7f000001); a.sin_port = 0;
  bind(sink, (struct sockaddr *)&a, sizeof a); socklen_t al = sizeof a; getsockname(sink, (struct sockaddr *)&a, &al);
  unsigned char buf[2048]; unsigned char pkt[2048];
  memset(pkt, 0xab, sizeof pkt); pkt[0] = 0x80; pkt[1] = 101; pkt[8] = 1; pkt[9] = 2; pkt[10] = 3; pkt[11] = 4;
  double t0 = cpu_now();
  for (long i = 0; i < iters; i++) {
    memcpy(buf, pkt, size); buf[2] = (unsigned char)(i >> 8); buf[3] = (unsigned char)i;
    int len = size; srtp_protect(s, buf, &len);
  }
  double t1 = cpu_now();
  for (long i = 0; i < iters; i++) {
    sendto(fd, pkt, size + 16, 0, (struct sockaddr *)&a, sizeof a);
    if ((i & 63) == 0) { while (recv(sink, buf, sizeof buf, MSG_DONTWAIT) > 0) {} }
  }
  double t2 = cpu_now();
  for (long i = 0; i < iters; i++) {
    memcpy(buf, pkt, size); buf[2] = (unsigned char)(i >> 8); buf[3] = (unsigned char)i;
    int len = size; srtp_protect(s, buf, &len);
    sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof a);
    if ((i & 63) == 0) { while (recv(sink, buf, sizeof buf, MSG_DONTWAIT) > 0) {} }
  }
  double t3 = cpu_now();
  printf("{\"size\":%d,\"iters\":%ld,\"gcm\":%d,\"protectUs\":%.3f,\"sendUs\":%.3f,\"protectSendUs\":%.3f}\n",
         size, iters, gcm, (t1 - t0) / iters * 1e6, (t2 - t1) / iters * 1e6, (t3 - t2) / iters * 1e6);
  return 0;
}
`;

export interface FloorResult {
  /** Which libsrtp2: the worker's (OpenSSL) or Debian's (NSS). */
  crypto: 'openssl' | 'nss';
  size: number;
  iters: number;
  gcm: number;
  /** CPU microseconds per packet (the loop's own process, sink draining included). */
  protectUs: number;
  sendUs: number;
  protectSendUs: number;
}

const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'briefing-orchestrator');
const TARBALL = path.join(CACHE, 'libsrtp2_2.5.0.orig.tar.gz');
const OPENSSL_SRTP = path.join(CACHE, 'libsrtp2-2.5.0-openssl');

/**
 * libsrtp2 2.5.0 built as the worker's (static, crypto-library=openssl), once, into the
 * cache: the include directory (holding srtp2/srtp.h) and the archive; undefined without
 * the tarball.
 */
function opensslLibsrtp(): { include: string; archive: string } | undefined {
  const include = path.join(OPENSSL_SRTP, 'include');
  const archive = path.join(OPENSSL_SRTP, 'libsrtp2.a');
  if (existsSync(archive)) return { include, archive };
  if (!existsSync(TARBALL)) return undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'libsrtp2-'));
  try {
    execFileSync('tar', ['-xzf', TARBALL, '-C', work]);
    const src = path.join(work, 'libsrtp-2.5.0');
    const out = path.join(work, 'build');
    const quiet: ExecFileSyncOptions = { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 };
    execFileSync(
      'meson',
      [
        'setup',
        '--buildtype=release',
        '-Ddefault_library=static',
        '-Dcrypto-library=openssl',
        '-Dcrypto-library-kdf=disabled',
        '-Dtests=disabled',
        '-Ddoc=disabled',
        out,
        src,
      ],
      quiet,
    );
    execFileSync('ninja', ['-C', out], quiet);
    const staged = `${OPENSSL_SRTP}.tmp-${process.pid}`;
    mkdirSync(path.join(staged, 'include', 'srtp2'), { recursive: true });
    execFileSync('cp', [path.join(src, 'include', 'srtp.h'), path.join(staged, 'include', 'srtp2', 'srtp.h')]);
    execFileSync('cp', [path.join(out, 'libsrtp2.a'), path.join(staged, 'libsrtp2.a')]);
    renameSync(staged, OPENSSL_SRTP);
    return { include, archive };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Compiles and runs the floor loop; an error when gcc or any libsrtp2 is missing. */
export function measureFloor(size: number, gcm = true, iters = 200_000): FloorResult | { error: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'srtp-floor-'));
  try {
    const src = path.join(dir, 'floor.c');
    const bin = path.join(dir, 'floor');
    writeFileSync(src, SOURCE);
    let lib: { include: string; archive: string } | undefined;
    try {
      lib = opensslLibsrtp();
    } catch {
      lib = undefined; // meson or the build failed: Debian's libsrtp2 below
    }
    const link = lib ? [`-I${lib.include}`, src, lib.archive, '-lcrypto'] : [src, '-lsrtp2'];
    execFileSync('gcc', ['-O2', '-o', bin, ...link], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    const out = execFileSync(bin, [String(Math.round(size)), String(iters), gcm ? '1' : '0'], { timeout: 120_000 });
    return { crypto: lib ? 'openssl' : 'nss', ...(JSON.parse(out.toString()) as Omit<FloorResult, 'crypto'>) };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? 'failed' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
