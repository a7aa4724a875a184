// Answers like Everflow's postback endpoint (200, tiny body) on 127.0.0.1; runs in its own process so
// the server's work does not count against the destination's. Asked "stats", it reports how many
// connections and requests it has seen, which shows whether connections are reused.
const http = require('http')

let connections = 0
let requests = 0
const server = http.createServer((request, response) => {
  requests++
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
  response.end('OK')
})
server.on('connection', () => connections++)
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', (message) => {
  if (message === 'stats') process.send({ connections, requests })
})
process.on('disconnect', () => process.exit(0))
