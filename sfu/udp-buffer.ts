// The receive queue each worker's WebRtcServer UDP socket asks for (MEDIASOUP_UDP_RECV_BUFFER).
// Every point of a worker sends its RTCP (receiver reports, transport-cc feedback, NACKs)
// and its ICE and DTLS packets to that one socket; with Linux's default queue (208 KiB) a
// worker busy for a moment drops some of them (docs/benchmarks/media-path.md, "The workers'
// receive queue"). The kernel silently caps SO_RCVBUF at net.core.rmem_max, so the pool asks
// a throwaway socket for the same size and reads back what the kernel granted.
import dgram from 'node:dgram';

/**
 * The receive queue (bytes) the kernel grants a UDP socket that asks for `requested`, read
 * back from a throwaway loopback socket; undefined when that socket cannot be made.
 */
export async function grantedRecvBuffer(requested: number): Promise<number | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.setRecvBufferSize(requested);
    // Linux reports twice what it grants (the other half is its own bookkeeping).
    const got = socket.getRecvBufferSize();
    return process.platform === 'linux' ? Math.floor(got / 2) : got;
  } catch {
    return undefined;
  } finally {
    try {
      socket.close();
    } catch {
      // Never bound: nothing to close.
    }
  }
}

/** The warning to log when the kernel grants less than was asked, or undefined. */
export function capWarning(requested: number, granted: number | undefined): string | undefined {
  if (requested === 0 || granted === undefined || granted >= requested) return undefined;
  return (
    `the kernel grants the SFU's UDP sockets a receive queue of ${granted} bytes, below the ` +
    `${requested} asked for (MEDIASOUP_UDP_RECV_BUFFER): raise net.core.rmem_max with ` +
    `\`sysctl -w net.core.rmem_max=${requested}\``
  );
}
