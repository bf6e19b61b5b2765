// Fixes to mediasoup 3.12.16's worker sources, applied by scripts/build-worker.mjs to its
// copy of the sources before it compiles them. Each is the change upstream made in a later
// release, written against 3.12.16's code, for a defect on a path the product uses; the
// table in docs/operations.md ("The mediasoup worker, and why mediasoup is pinned to
// 3.12.16") lists every defect upstream fixed after 3.12.16 that was considered, and why it
// was or was not taken. One later feature is taken too: UDP socket buffer sizes
// (addUdpSocketBufferSizes); and one fix is our own, for a defect upstream has not fixed
// (fixStaleSyncKeyFrame).
//
// Each fix is a text replacement that fails loudly when it matches nothing (the sources are
// not 3.12.16's), and each is part of the build's cache key (build-worker.mjs patchHash):
// changing one rebuilds the worker. Only Node's standard library: this runs before
// `npm ci` has installed anything else.
import fs from 'node:fs';
import path from 'node:path';

export class PatchError extends Error {}

/** `text` with `pattern` replaced; throws when nothing changed. */
export function replaceOrFail(text, pattern, replacement, what) {
  const out = text.replace(pattern, replacement);
  if (out === text)
    throw new PatchError(`patch step "${what}" matched nothing: the mediasoup sources differ from 3.12.16`);
  return out;
}

/** Applies `steps` ([pattern, replacement, what]) to one file under the worker's sources. */
function patchFile(workerDir, relPath, steps) {
  const file = path.join(workerDir, relPath);
  let text = fs.readFileSync(file, 'utf8');
  for (const [pattern, replacement, what] of steps) text = replaceOrFail(text, pattern, replacement, what);
  fs.writeFileSync(file, text);
}

/**
 * The WebRtcServer destructor closes its transports while iterating the set that each
 * closing transport erases itself from (an invalidated iterator: with assertions on,
 * abseil aborts the worker), and only after deleting the sockets their DTLS close alerts
 * need. Closing a WebRtcServer with live transports is our shutdown path.
 * Upstream fixed both in 3.14.5; this does the same: transports first, over a copy.
 */
export function fixWebRtcServerClose(workerDir) {
  const closeTransports =
    '\t\t// Transports first (their DTLS close alerts need the sockets), over a copy: each\n' +
    '\t\t// closing transport erases itself from webRtcTransports.\n' +
    '\t\tconst auto webRtcTransports = this->webRtcTransports;\n\n' +
    '\t\tfor (auto* webRtcTransport : webRtcTransports)\n' +
    '\t\t{\n\t\t\twebRtcTransport->ListenServerClosed();\n\t\t}\n' +
    '\t\tthis->webRtcTransports.clear();\n\n';
  patchFile(workerDir, 'src/RTC/WebRtcServer.cpp', [
    [
      /(UnregisterHandler\(this->id\);\n\n)([\s\S]*?this->udpSocketOrTcpServers\.clear\(\);\n)\n\t\tfor \(auto\* webRtcTransport : this->webRtcTransports\)\n\t\t\{\n\t\t\twebRtcTransport->ListenServerClosed\(\);\n\t\t\}\n\t\tthis->webRtcTransports\.clear\(\);\n/,
      (m, head, sockets) => head + closeTransports + sockets,
      'WebRtcServer destructor',
    ],
  ]);
}

/**
 * Memory leak with a WebRtcServer listening on TCP (upstream 3.14.5). When a WebRtcTransport
 * closes, it closes the libuv handle of each TCP connection it used but never tells the
 * connection's TcpServer, so the WebRtcServer's TCP server keeps the connection object and
 * its 64 kB receive buffer until the worker exits. Every point that reached us over TCP (a
 * network that blocks UDP) and then left or reconnected leaks one; a worker lives for days.
 *
 * As upstream: closing a tuple's TCP connection now also reports the close to its server,
 * which forgets and deletes it (TriggerClose). The server's report reaches the transport's
 * IceServer while that IceServer is being destroyed (a WebRtcTransport's own TCP server),
 * so RemoveTuple() is ignored during destruction, as upstream's `destroying` flag does;
 * and, beyond upstream, while it evicts its oldest tuple (more than 8), where the same
 * round trip would erase the evicted tuple twice.
 */
export function fixTcpConnectionLeak(workerDir) {
  patchFile(workerDir, 'include/handles/TcpConnectionHandler.hpp', [
    [
      /\npublic:\n\tvoid Close\(\);\n/,
      '\npublic:\n\tvoid Close();\n\t// Close() and tell the listener (the TcpServer), which deletes this connection.\n\tvoid TriggerClose();\n',
      'TcpConnectionHandler::TriggerClose declaration',
    ],
  ]);
  patchFile(workerDir, 'src/handles/TcpConnectionHandler.cpp', [
    [
      /\nvoid TcpConnectionHandler::Dump\(\) const\n/,
      '\nvoid TcpConnectionHandler::TriggerClose()\n{\n\tMS_TRACE();\n\n\tif (this->closed)\n\t\treturn;\n\n' +
        '\tClose();\n\n\t// The listener (TcpServerHandler) forgets and deletes this connection.\n' +
        '\tthis->listener->OnTcpConnectionClosed(this);\n}\n' +
        '\nvoid TcpConnectionHandler::Dump() const\n',
      'TcpConnectionHandler::TriggerClose definition',
    ],
  ]);
  patchFile(workerDir, 'include/RTC/TransportTuple.hpp', [
    [
      /(\t\tvoid Close\(\)\n\t\t\{\n\t\t\tif \(this->protocol == Protocol::UDP\)\n\t\t\t\tthis->udpSocket->Close\(\);\n\t\t\telse\n\t\t\t\tthis->tcpConnection->)Close\(\);/,
      '$1TriggerClose();',
      'TransportTuple::Close of a TCP tuple',
    ],
  ]);
  patchFile(workerDir, 'include/RTC/IceServer.hpp', [
    [
      /(\t\t\/\/ Others\.\n)(\t\tstd::string usernameFragment;)/,
      '$1\t\tbool destroying{ false };\n\t\tbool evictingTuple{ false };\n$2',
      'IceServer destroying flag',
    ],
  ]);
  patchFile(workerDir, 'src/RTC/IceServer.cpp', [
    [
      /(\tIceServer::~IceServer\(\)\n\t\{\n\t\tMS_TRACE\(\);\n)/,
      '$1\n\t\tthis->destroying = true;\n',
      'IceServer destructor sets destroying',
    ],
    [
      /(\tvoid IceServer::RemoveTuple\(RTC::TransportTuple\* tuple\)\n\t\{\n\t\tMS_TRACE\(\);\n)/,
      '$1\n\t\t// While being destroyed or evicting a tuple, closing a TCP tuple comes back here\n' +
        '\t\t// through the TcpServer and the transport: the caller removes the tuple itself.\n' +
        '\t\tif (this->destroying || this->evictingTuple)\n\t\t\treturn;\n',
      'IceServer::RemoveTuple ignored while destroying',
    ],
    [
      /(\t\t\t\/\/ Notify the listener\.\n)\t\t\tthis->listener->OnIceServerTupleRemoved\(this, removedTuple\);\n(\n\t\t\t\/\/ Remove it from the list of tuples\.\n[\s\S]*?\t\t\tthis->tuples\.erase\(std::next\(it\)\.base\(\)\);\n)/,
      '$1\t\t\tthis->evictingTuple = true;\n\t\t\tthis->listener->OnIceServerTupleRemoved(this, removedTuple);\n\t\t\tthis->evictingTuple = false;\n$2',
      'IceServer::AddTuple eviction ignores RemoveTuple',
    ],
  ]);
}

/**
 * A simulcast consumer cannot switch layers when its RTP timestamp reference layer
 * disappears (upstream 3.14.16). The first layer a consumer targets becomes its timestamp
 * reference; switching to any other layer needs a Sender Report on both. If the reference
 * layer's stream stops before it sent one (the host's browser drops its top layer when its
 * uplink shrinks, or the host restarts the camera), the consumer can never switch again and
 * the point's video freezes. As upstream: a reference without a Sender Report is replaced
 * by the new target layer, and a switch needs a Sender Report on the target layer only.
 */
export function fixSimulcastReferenceLayer(workerDir) {
  patchFile(workerDir, 'src/RTC/SimulcastConsumer.cpp', [
    [
      /(\t\t\/\/ If we don't have yet a RTP timestamp reference, set it now\.\n)\t\tif \(newTargetSpatialLayer != -1 && this->tsReferenceSpatialLayer == -1\)\n/,
      '$1\t\t// Also replace a reference whose stream never sent a Sender Report (it may be gone).\n' +
        '\t\tif (\n\t\t  newTargetSpatialLayer != -1 &&\n' +
        '\t\t  (this->tsReferenceSpatialLayer == -1 || !GetProducerTsReferenceRtpStream() ||\n' +
        '\t\t   !GetProducerTsReferenceRtpStream()->GetSenderReportNtpMs()))\n',
      'SimulcastConsumer::UpdateTargetLayers reference layer',
    ],
    [
      /\t\t\t\(\n\t\t\t\tGetProducerTsReferenceRtpStream\(\)->GetSenderReportNtpMs\(\) &&\n\t\t\t\tthis->producerRtpStreams\.at\(spatialLayer\)->GetSenderReportNtpMs\(\)\n\t\t\t\)\n/,
      '\t\t\tthis->producerRtpStreams.at(spatialLayer)->GetSenderReportNtpMs()\n',
      'SimulcastConsumer::CanSwitchToSpatialLayer',
    ],
  ]);
}

/**
 * Possible value overflow in transport-cc feedback (upstream 3.14.3). The count of packets
 * missing before a new one is computed in `int`, so across the 16-bit wrap of the
 * transport-wide sequence number it is negative and a gap longer than a feedback packet can
 * describe (8191 packets) is not caught: the feedback sent to the browser then carries a
 * truncated run length, and its bandwidth estimate for the host's camera goes wrong. Every
 * host and point browser sends transport-cc to us. As upstream: computed in uint16_t.
 */
export function fixTransportCcMissingPackets(workerDir) {
  patchFile(workerDir, 'src/RTC/RTCP/FeedbackRtpTransport.cpp', [
    [
      /\t\t\t\tauto missingPackets = sequenceNumber - \(this->latestSequenceNumber \+ 1\);\n/,
      '\t\t\t\t// uint16_t, not auto (int): the count must wrap with the sequence number.\n' +
        '\t\t\t\tconst uint16_t missingPackets = sequenceNumber - (this->latestSequenceNumber + 1);\n',
      'FeedbackRtpTransportPacket::AddPacket missing packets',
    ],
  ]);
}

/**
 * Socket buffer sizes for a WebRtcServer's UDP sockets (upstream added `sendBufferSize` and
 * `recvBufferSize` to a listen info in 3.13; 3.12.16 leaves the system's default, 208 KiB on
 * Linux). Every point of a worker sends its ICE, DTLS and RTCP to that worker's one
 * WebRtcServer UDP socket, and a worker busy for a moment drops what does not fit in the
 * queue (docs/benchmarks/media-path.md, "The workers' receive queue"). As upstream: the
 * listen info's optional `sendBufferSize` / `recvBufferSize` (bytes) are set on the socket
 * with libuv (SO_SNDBUF / SO_RCVBUF, which the kernel caps at net.core.wmem_max /
 * rmem_max); a size the kernel refuses fails the WebRtcServer's creation.
 */
export function addUdpSocketBufferSizes(workerDir) {
  patchFile(workerDir, 'include/handles/UdpSocketHandler.hpp', [
    [
      /\npublic:\n\tvoid Close\(\);\n/,
      '\npublic:\n\tvoid Close();\n\t// SO_SNDBUF / SO_RCVBUF (the kernel caps them at net.core.wmem_max / rmem_max).\n' +
        '\tvoid SetSendBufferSize(uint32_t size);\n\tvoid SetRecvBufferSize(uint32_t size);\n',
      'UdpSocketHandler buffer size declarations',
    ],
  ]);
  const setter = (name, uvFn) =>
    `\nvoid UdpSocketHandler::${name}(uint32_t size)\n{\n\tMS_TRACE();\n\n` +
    '\tauto value = static_cast<int>(size);\n\n' +
    '\tif (value <= 0)\n\t\tMS_THROW_TYPE_ERROR("invalid buffer size: %" PRIu32, size);\n\n' +
    `\tconst int err = ${uvFn}(reinterpret_cast<uv_handle_t*>(this->uvHandle), std::addressof(value));\n\n` +
    `\tif (err != 0)\n\t\tMS_THROW_ERROR("${uvFn}() failed: %s", uv_strerror(err));\n}\n`;
  patchFile(workerDir, 'src/handles/UdpSocketHandler.cpp', [
    [
      /#include <cstring> \/\/ std::memcpy\(\)\n/,
      '$&#include <memory> // std::addressof()\n',
      'UdpSocketHandler includes',
    ],
    [
      /\nvoid UdpSocketHandler::Dump\(\) const\n/,
      (m) =>
        setter('SetSendBufferSize', 'uv_send_buffer_size') + setter('SetRecvBufferSize', 'uv_recv_buffer_size') + m,
      'UdpSocketHandler buffer size setters',
    ],
  ]);
  patchFile(workerDir, 'include/RTC/WebRtcServer.hpp', [
    [
      /(\t\t\tstd::string announcedIp;\n\t\t\tuint16_t port;\n)/,
      '$1\t\t\tuint32_t sendBufferSize{ 0 };\n\t\t\tuint32_t recvBufferSize{ 0 };\n',
      'WebRtcServer::ListenInfo buffer sizes',
    ],
  ]);
  const parseSize = (key) => {
    const it = `json${key[0].toUpperCase()}${key.slice(1)}It`;
    return (
      `\n\t\t\tauto ${it} = jsonListenInfo.find("${key}");\n\n` +
      `\t\t\tif (${it} != jsonListenInfo.end())\n\t\t\t{\n` +
      `\t\t\t\tif (!(${it}->is_number_unsigned() && ${it}->get<uint64_t>() <= 0x7fffffff))\n` +
      `\t\t\t\t\tMS_THROW_TYPE_ERROR("wrong ${key} (not a number of bytes)");\n\n` +
      `\t\t\t\tlistenInfo.${key} = ${it}->get<uint32_t>();\n\t\t\t}\n`
    );
  };
  patchFile(workerDir, 'src/RTC/WebRtcServer.cpp', [
    [
      /(\t\t\tlistenInfo\.port = port;\n)/,
      (m) => m + parseSize('sendBufferSize') + parseSize('recvBufferSize'),
      'WebRtcServer listen info buffer sizes',
    ],
    [
      /(\t\t\t\t\tthis->udpSocketOrTcpServers\.emplace_back\(udpSocket, nullptr, listenInfo\.announcedIp\);\n)/,
      '$1\n\t\t\t\t\t// After emplace_back(): if a size is refused, the catch below deletes the socket.\n' +
        '\t\t\t\t\tif (listenInfo.sendBufferSize != 0)\n\t\t\t\t\t\tudpSocket->SetSendBufferSize(listenInfo.sendBufferSize);\n' +
        '\t\t\t\t\tif (listenInfo.recvBufferSize != 0)\n\t\t\t\t\t\tudpSocket->SetRecvBufferSize(listenInfo.recvBufferSize);\n',
      'WebRtcServer UDP socket buffer sizes',
    ],
  ]);
}

/**
 * A simulcast consumer takes a stale key frame as the point to switch layers or to resync
 * at (not fixed upstream: 3.14.16's SimulcastConsumer has the same code). The first packet
 * of any key frame on the target layer starts the new layer, including one that arrives
 * late: a retransmission the Producer asked for with a NACK (on the media SSRC or through
 * RTX), which mediasoup forwards to consumers, once per time the publisher resent it. A
 * consumer already sending another layer then finds that key frame behind what it has
 * sent, refuses it (more than 75 ms of timestamp extra offset) and asks for a key frame;
 * when the next candidate is stale again (the same packet resent once more) it "gives up"
 * and switches at it with the timestamps running backwards: its send stream's
 * retransmission buffer discards every packet that follows until the timestamps pass the
 * newest sent one ("packet has higher seq but lower timestamp than newest packet in the
 * buffer"), so a point's NACKs for them go unanswered, and its sequence numbers jump past
 * every packet of that layer between the stale key frame and the live ones, gaps that
 * the point NACKs and nobody can answer. All consumers waiting on that layer in a router
 * switch at the same stale packet. Here a key frame whose timestamp is behind the newest
 * one its Producer stream has received (by less than 5 s, so that a stream whose
 * timestamps were reset is still followed) is skipped as a switch or resync point: the
 * consumer waits for a live key frame (it has already asked for one).
 */
export function fixStaleSyncKeyFrame(workerDir) {
  const helper =
    '\t// A key frame whose RTP timestamp is behind the newest one its Producer stream has\n' +
    '\t// received (a retransmission, or a late or duplicated packet) is no point to switch\n' +
    '\t// layers or resync at: the stream would have to go back in time. Behind by more than\n' +
    "\t// MaxStaleKeyFrameMs, the stream's timestamps were reset: not stale.\n" +
    '\tstatic constexpr uint32_t MaxStaleKeyFrameMs{ 5000u };\n\n' +
    '\tstatic bool IsStaleKeyFrame(const RTC::RtpPacket* packet, const RTC::RtpStreamRecv* producerRtpStream)\n' +
    '\t{\n' +
    '\t\tif (!producerRtpStream)\n\t\t\treturn false;\n\n' +
    '\t\tconst uint32_t behind = producerRtpStream->GetMaxPacketTs() - packet->GetTimestamp();\n' +
    '\t\tconst uint64_t maxBehind =\n' +
    '\t\t  static_cast<uint64_t>(MaxStaleKeyFrameMs) * producerRtpStream->GetClockRate() / 1000u;\n\n' +
    '\t\treturn behind != 0u && behind < maxBehind;\n' +
    '\t}\n\n';
  const skip = (tabs, why) =>
    `${tabs}// ${why}\n` +
    `${tabs}if (IsStaleKeyFrame(packet, this->producerRtpStreams.at(spatialLayer)))\n` +
    `${tabs}{\n` +
    `${tabs}\tMS_DEBUG_TAG(\n` +
    `${tabs}\t  simulcast,\n` +
    `${tabs}\t  "ignoring stale key frame [ssrc:%" PRIu32 ", seq:%" PRIu16 ", ts:%" PRIu32 "]",\n` +
    `${tabs}\t  packet->GetSsrc(),\n` +
    `${tabs}\t  packet->GetSequenceNumber(),\n` +
    `${tabs}\t  packet->GetTimestamp());\n\n` +
    `${tabs}\tpacket->logger.Dropped(RtcLogger::RtpPacket::DropReason::NOT_A_KEYFRAME);\n\n` +
    `${tabs}\treturn;\n` +
    `${tabs}}\n\n`;
  patchFile(workerDir, 'src/RTC/SimulcastConsumer.cpp', [
    [
      /\n\tvoid SimulcastConsumer::SendRtpPacket\(\n/,
      (m) => '\n' + helper + m.slice(1),
      'SimulcastConsumer stale key frame helper',
    ],
    [
      /(\t\t\t\/\/ Ignore if not a key frame\.\n\t\t\tif \(!packet->IsKeyFrame\(\)\)\n\t\t\t\{\n\t\t\t\tpacket->logger\.Dropped\(RtcLogger::RtpPacket::DropReason::NOT_A_KEYFRAME\);\n\n\t\t\t\treturn;\n\t\t\t\}\n\n)(\t\t\tshouldSwitchCurrentSpatialLayer = true;\n)/,
      (m, head, tail) => head + skip('\t\t\t', 'Nor if a stale one: wait for a live key frame.') + tail,
      'SimulcastConsumer::SendRtpPacket layer switch at a stale key frame',
    ],
    [
      /(\t\t\/\/ If we need to sync and this is not a key frame, ignore the packet\.\n\t\tif \(this->syncRequired && !packet->IsKeyFrame\(\)\)\n\t\t\{\n\t\t\tpacket->logger\.Dropped\(RtcLogger::RtpPacket::DropReason::NOT_A_KEYFRAME\);\n\n\t\t\treturn;\n\t\t\}\n\n)/,
      (m) =>
        m +
        '\t\tif (this->syncRequired)\n\t\t{\n' +
        skip('\t\t\t', 'Nor at a stale key frame.').replace(/\n\n$/, '\n') +
        '\t\t}\n\n',
      'SimulcastConsumer::SendRtpPacket resync at a stale key frame',
    ],
  ]);
}

/** Every fix, in the order applied. */
export const WORKER_FIXES = [
  fixWebRtcServerClose,
  fixTcpConnectionLeak,
  fixSimulcastReferenceLayer,
  fixStaleSyncKeyFrame,
  fixTransportCcMissingPackets,
  addUdpSocketBufferSizes,
];

/** Applies every fix to a copy of the worker's sources. */
export function applyWorkerFixes(workerDir) {
  for (const fix of WORKER_FIXES) fix(workerDir);
}
