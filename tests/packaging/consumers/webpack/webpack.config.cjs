// Plain config, no plugins: the tool runs from tests/packaging/node_modules; only the packed
// package is installed here. index.html is copied next to the bundle by the test.
const path = require("node:path");

module.exports = {
  mode: "production",
  target: "web",
  entry: "./src/index.js",
  output: { path: path.resolve(__dirname, "dist"), filename: "main.js", clean: true },
  performance: { hints: false },
};
