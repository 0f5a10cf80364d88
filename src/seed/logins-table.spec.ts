import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DemoLogin } from './demo.seeder';
import { formatLoginsTable } from './logins-table';

describe('logins table', () => {
  it('aligns the columns and labels the staff account', () => {
    const logins: DemoLogin[] = [
      { email: 'admin@makeplus.demo', password: 'pw', role: 'staff', event: null },
      {
        email: 'exposant@event1.demo',
        password: 'pw',
        role: 'exposant',
        event: { id: 'e1', name: 'Expo', status: 'active' },
      },
    ];
    assert.equal(
      formatLoginsTable(logins),
      [
        'EMAIL                 PASSWORD  ROLE      EVENT',
        '--------------------  --------  --------  ------------------------------------',
        'admin@makeplus.demo   pw        staff     - (platform staff: sees every event)',
        'exposant@event1.demo  pw        exposant  Expo (active)',
        '',
      ].join('\n'),
    );
  });
});
