// The facts a sync records from its fetches: conditional headers, 304, validators, content hash.
import { describe, expect, it } from '@jest/globals';
import type { ProviderFetchState } from '@marquee/db';
import type { FetchedPayload } from '@marquee/fetch';
import { PayloadRecorder } from '../src/payload.recorder.ts';

const URL_A = 'http://feed.test/a';
const applied: ProviderFetchState = {
  providerId: '00000000-0000-4000-8000-000000000001',
  etag: '"v1"',
  lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT',
  contentHash: 'abc',
  parsedCount: 3,
  seenMarkedAt: new Date(),
  updatedAt: new Date(),
};

const page = (body: string, status = 200, headers: FetchedPayload['headers'] = {}) => ({
  status,
  body: Buffer.from(body),
  headers,
  url: URL_A,
});

describe('PayloadRecorder', () => {
  it('sends the applied validators on the first request of the provider URL only, when conditional', () => {
    const recorder = new PayloadRecorder(URL_A, applied, true);
    expect(recorder.headersFor('http://feed.test/other')).toEqual({});
    expect(recorder.headersFor(URL_A)).toEqual({
      'if-none-match': '"v1"',
      'if-modified-since': 'Tue, 01 Jan 2030 00:00:00 GMT',
    });
    expect(recorder.headersFor(URL_A)).toEqual({});
    expect(new PayloadRecorder(URL_A, applied, false).headersFor(URL_A)).toEqual({});
  });

  it('takes a 304 for "not modified" only when the conditional GET was sent', () => {
    const sent = new PayloadRecorder(URL_A, applied, true);
    sent.headersFor(URL_A);
    sent.record(URL_A, page('', 304));
    expect(sent.notModified).toBe(true);

    const unasked = new PayloadRecorder(URL_A, applied, false);
    unasked.headersFor(URL_A);
    unasked.record(URL_A, page('', 304));
    expect(unasked.notModified).toBe(false);
    // Without validators to send, nothing was asked either.
    const bare = new PayloadRecorder(URL_A, { ...applied, etag: null, lastModified: null }, true);
    bare.headersFor(URL_A);
    bare.record(URL_A, page('', 304));
    expect(bare.notModified).toBe(false);
  });

  it('keeps the validators of the provider URL, not of other pages', () => {
    const recorder = new PayloadRecorder(URL_A, null, false);
    recorder.record(URL_A, page('a', 200, { etag: '"a1"', 'last-modified': 'then' }));
    recorder.record('http://feed.test/page2', page('b', 200, { etag: '"b1"' }));
    expect([recorder.etag, recorder.lastModified]).toEqual(['"a1"', 'then']);
  });

  it('hashes every body in order, page boundaries included', () => {
    const hashOf = (...bodies: string[]) => {
      const recorder = new PayloadRecorder(URL_A, null, false);
      for (const body of bodies) recorder.record(URL_A, page(body));
      return recorder.contentHash();
    };
    expect(hashOf('ab', 'c')).toBe(hashOf('ab', 'c'));
    expect(hashOf('ab', 'c')).not.toBe(hashOf('a', 'bc'));
    expect(hashOf('ab', 'c')).not.toBe(hashOf('c', 'ab'));
  });
});
