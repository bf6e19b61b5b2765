// The receive buffer each worker's WebRtcServer UDP socket asks for. Every point of a
// worker sends its RTCP (receiver reports, transport-cc feedback, NACKs) to that one
// socket: at 420 points Linux's default queue (208 KiB) holds well under a tenth of a
// second of it, so a worker busy for longer (a storm of DTLS handshakes) drops feedback and
// the points' bandwidth estimates go wrong. The kernel silently caps SO_RCVBUF at
// net.core.rmem_max, so the pool reads that cap and says when it shrinks the request.
import fs from 'node:fs';

export const RMEM_MAX_PATH = '/proc/sys/net/core/rmem_max';

export interface UdpRecvBuffer {
  /** Bytes asked for; 0: the system's default is left alone. */
  requested: number;
  /** What the kernel grants: the request, shrunk to the cap when the cap is known; undefined when 0 was asked. */
  granted: number | undefined;
  /** net.core.rmem_max, when readable (Linux). */
  cap: number | undefined;
}

/** The kernel's SO_RCVBUF cap, or undefined where it cannot be read (not Linux, no /proc). */
export function readRmemMax(file: string = RMEM_MAX_PATH): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function udpRecvBuffer(requested: number, cap: number | undefined): UdpRecvBuffer {
  return { requested, cap, granted: requested === 0 ? undefined : Math.min(requested, cap ?? requested) };
}

/** The warning to log when the cap shrinks the request, or undefined when it does not. */
export function capWarning(b: UdpRecvBuffer): string | undefined {
  if (b.requested === 0 || b.cap === undefined || b.cap >= b.requested) return undefined;
  return (
    `the kernel caps the SFU's UDP receive buffer at ${b.cap} bytes (net.core.rmem_max), below the ` +
    `${b.requested} asked for (MEDIASOUP_UDP_RECV_BUFFER): raise it with ` +
    `\`sysctl -w net.core.rmem_max=${b.requested}\` so a busy worker does not drop the points' feedback`
  );
}
