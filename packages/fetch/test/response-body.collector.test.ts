import { describe, expect, it } from '@jest/globals';
import { announcedLength, ResponseBodyCollector } from '../src/response-body.collector.ts';

describe('announcedLength', () => {
  it('is the Content-Length of an identity body with a status that has one', () => {
    expect(announcedLength(200, { 'content-length': '1234' })).toBe(1234);
    expect(announcedLength(200, { 'content-length': '0' })).toBe(0);
    expect(announcedLength(206, { 'content-length': '7', 'content-encoding': 'identity' })).toBe(7);
  });

  it('is unknown without a usable header, for compressed bodies and for 204/304', () => {
    expect(announcedLength(200, {})).toBeUndefined();
    expect(announcedLength(200, { 'content-length': '12', 'content-encoding': 'gzip' })).toBe(
      undefined,
    );
    expect(announcedLength(200, { 'content-length': '-1' })).toBeUndefined();
    expect(announcedLength(200, { 'content-length': '1e3' })).toBeUndefined();
    expect(announcedLength(200, { 'content-length': '99999999999999999999' })).toBeUndefined();
    expect(announcedLength(204, { 'content-length': '10' })).toBeUndefined();
    expect(announcedLength(304, { 'content-length': '10' })).toBeUndefined();
  });
});

describe('ResponseBodyCollector', () => {
  it('with an announced length, copies each chunk as it arrives (the chunk is not kept)', () => {
    const collector = new ResponseBodyCollector(10);
    const first = Buffer.from('hello');
    expect(collector.push(first)).toBe(true);
    // Reusing the chunk afterwards must not change the body: it was copied, not referenced.
    first.fill('x');
    expect(collector.push(Buffer.from('world'))).toBe(true);
    expect(collector.size).toBe(10);
    const body = collector.take();
    expect(body?.toString()).toBe('helloworld');
    expect(body?.buffer.byteLength).toBe(10);
  });

  it('refuses a chunk that runs past the announced length, keeping what came before', () => {
    const collector = new ResponseBodyCollector(6);
    expect(collector.push(Buffer.from('hello'))).toBe(true);
    expect(collector.push(Buffer.from('!!'))).toBe(false);
    expect(collector.size).toBe(5);
  });

  it('gives no body when fewer bytes arrived than announced', () => {
    const collector = new ResponseBodyCollector(6);
    collector.push(Buffer.from('hello'));
    expect(collector.take()).toBeUndefined();
    expect(new ResponseBodyCollector(0).take()).toEqual(Buffer.alloc(0));
  });

  it('without an announced length, joins whatever arrived', () => {
    const collector = new ResponseBodyCollector();
    collector.push(Buffer.from('hel'));
    collector.push(Buffer.from('lo'));
    expect(collector.take()?.toString()).toBe('hello');
    expect(new ResponseBodyCollector().take()).toEqual(Buffer.alloc(0));
  });
});
