import { describe, expect, it } from 'vitest';
import { parseLinkHeader } from './link-header';

describe('parseLinkHeader', () => {
  it('reads the next link of a paged list', () => {
    expect(parseLinkHeader('<http://localhost/api/devices/?limit=50&cursor=ZGV2aWNl>; rel="next"')).toEqual({
      next: 'http://localhost/api/devices/?limit=50&cursor=ZGV2aWNl',
    });
  });

  it('reads several links, several relation types and unquoted or upper-case rel', () => {
    const header = '</a?cursor=1>; rel="prev first", </b?x=1,2;y>;title="a, b; c";REL=next, </c>; rel=last';
    expect(parseLinkHeader(header)).toEqual({ prev: '/a?cursor=1', first: '/a?cursor=1', next: '/b?x=1,2;y', last: '/c' });
  });

  it('keeps the first link of a relation and skips links without one', () => {
    expect(parseLinkHeader('</only-title>; title="x", </one>; rel=next, </two>; rel=next')).toEqual({ next: '/one' });
  });

  it('gives nothing for a missing or empty header', () => {
    expect(parseLinkHeader(null)).toEqual({});
    expect(parseLinkHeader(undefined)).toEqual({});
    expect(parseLinkHeader('')).toEqual({});
    expect(parseLinkHeader('not a link')).toEqual({});
  });
});
