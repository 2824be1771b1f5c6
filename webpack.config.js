// Used by `nest build <app>` (nest-cli.json). The apps bundle the libraries from source (libs/*/src,
// through the tsconfig paths), exactly as tests and ts-node see them: without this, the npm
// workspace links in node_modules/@nest-hardening/* would make webpack leave them external and the
// apps would load the separately built libs/*/dist at run time.
'use strict';

const BUNDLED = /^@nest-hardening\//;

module.exports = (options) => ({
  ...options,
  externals: options.externals.map((external) =>
    typeof external === 'function'
      ? (data, callback) => (BUNDLED.test(data.request ?? '') ? callback() : external(data, callback))
      : external,
  ),
});
