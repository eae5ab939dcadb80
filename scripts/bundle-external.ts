/** Native addons stay outside the bundle; gRPC and tar are loaded only by an agent that takes updates: kept out of every start. */
export const BUNDLE_EXTERNAL = [
  'better-sqlite3',
  'socketcan',
  'serialport',
  'unix-dgram',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'tar',
];
