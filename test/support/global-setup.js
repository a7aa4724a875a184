// Makes the folder the hardening tallies are written to; the reporter reads it after the run.
const { mkdtempSync } = require('fs')
const { tmpdir } = require('os')
const path = require('path')

module.exports = async () => {
  process.env.HARDENING_DIR = mkdtempSync(path.join(tmpdir(), 'everflow-hardening-'))
}
