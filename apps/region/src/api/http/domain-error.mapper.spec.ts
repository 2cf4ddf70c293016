import { conflict, forbidden, gone, invalid, notFound, timedOut, unavailable } from '../../common/domain.error';
import { domainErrorToHttp } from './domain-error.mapper';

describe('domainErrorToHttp', () => {
  it('answers each code with the status and body MAAS gives', () => {
    const cases = [
      [notFound('No Machine matches the given query.'), 404, 'No Machine matches the given query.'],
      [forbidden(''), 403, ''],
      [conflict('Cannot deploy: node is New.'), 409, 'Cannot deploy: node is New.'],
      [invalid({ hostname: ['Node with this Hostname already exists.'] }), 400, '{"hostname":["Node with this Hostname already exists."]}'],
      [gone('gone'), 410, 'gone'],
      [timedOut('Timed out querying the BMC of node1: no answer'), 504, 'Timed out querying the BMC of node1: no answer'],
    ] as const;
    for (const [err, status, body] of cases) {
      const http = domainErrorToHttp(err);
      expect([http.status, http.renderBody()]).toEqual([status, body]);
    }
  });

  it('sends Retry-After with UNAVAILABLE, defaulting as MAAS does', () => {
    expect(domainErrorToHttp(unavailable('No rack can reach the BMC.', 30)).headers).toEqual({ 'Retry-After': '30' });
    expect(domainErrorToHttp(unavailable('No free address.')).headers).toEqual({ 'Retry-After': '10' });
  });

  it('renders field errors as JSON and sentences as text', () => {
    expect(domainErrorToHttp(invalid({ mem: ['Invalid memory.'] })).contentType).toMatch(/^application\/json/);
    expect(domainErrorToHttp(conflict('busy')).contentType).toMatch(/^text\/plain/);
  });
});
