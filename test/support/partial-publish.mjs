// Test helper run as a child process: connects to an MQTT broker with raw TCP and sends only the
// first half of a retained PUBLISH (its header announces the full length), prints HALF-SENT, and
// waits to be killed, the way a device dies mid-publish.
// Usage: node partial-publish.mjs PORT TOPIC PAYLOAD_BYTES
import net from 'node:net';

const [port, topic, size] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];

const varint = (n) => {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
};
const utf8 = (s) => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

const clientId = utf8(`partial-${process.pid}`);
const connectBody = Buffer.concat([utf8('MQTT'), Buffer.from([4, 0x02, 0, 60]), clientId]);
const connect = Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]);

const socket = net.connect(port, '127.0.0.1', () => socket.write(connect));
socket.once('data', (data) => {
  if (data[0] !== 0x20) throw new Error('no CONNACK');
  const topicBytes = utf8(topic);
  const payload = Buffer.alloc(size, 0x5a);
  const header = Buffer.concat([Buffer.from([0x31]), varint(topicBytes.length + payload.length)]); // PUBLISH, QoS 0, retain
  socket.write(Buffer.concat([header, topicBytes, payload.subarray(0, payload.length >> 1)]), () => {
    process.stdout.write('HALF-SENT\n');
  });
});
setInterval(() => {}, 1 << 30);
