// Stands in for `pick-port`, a development dependency of mediasoup that its shipped test
// suite requires but its npm package does not bring: a free port of the given type on the
// given address, found by binding port 0 and closing the socket again.
'use strict';
const dgram = require('node:dgram');
const net = require('node:net');

function pickPort({ type = 'udp', ip = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    if (type === 'tcp') {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, ip, () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    } else {
      const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', reject);
      socket.bind(0, ip, () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
    }
  });
}

module.exports = pickPort;
module.exports.pickPort = pickPort;
