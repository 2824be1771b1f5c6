import { endToEndHeaders } from './hop-by-hop-headers';

describe('endToEndHeaders', () => {
  it('drops the hop-by-hop fields of RFC 9110 §7.6.1 and those the Connection field names', () => {
    const headers = endToEndHeaders({
      connection: 'Keep-Alive, X-Session-Hop ,  Upgrade',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      trailer: 'x-checksum',
      host: 'gateway.example',
      'x-session-hop': 'only for this connection',
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(headers).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('also drops the fields the caller names', () => {
    expect(endToEndHeaders({ forwarded: 'for=1.2.3.4', accept: '*/*' }, new Set(['forwarded']))).toEqual({ accept: '*/*' });
  });

  it('keeps every end-to-end field when Connection only says keep-alive or close', () => {
    expect(endToEndHeaders({ connection: 'close', 'x-request-id': 'r1' })).toEqual({ 'x-request-id': 'r1' });
    expect(endToEndHeaders({ connection: 'keep-alive', 'x-request-id': 'r1' })).toEqual({ 'x-request-id': 'r1' });
  });
});
