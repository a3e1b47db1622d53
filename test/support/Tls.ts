/** What a TLS server shows a client, read without trusting it (the tests compare it themselves). */
import * as tls from "node:tls"

/** The certificate a TLS server on loopback `port` presents, as `AB:CD:…` (SHA-256). */
export const servedFingerprint = (port: number) =>
  new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on("error", reject)
  })
