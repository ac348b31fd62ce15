// ipx 3 as its own `ipx serve` runs it (one node process; sharp's libvips threads use every
// core), serving the images of a folder: `node server.mjs DIR PORT`.
import { createServer } from "node:http";
import { createIPX, createIPXNodeServer, ipxFSStorage } from "ipx";

const [dir, port] = process.argv.slice(2);
const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
createServer(createIPXNodeServer(ipx)).listen(Number(port), "127.0.0.1");
