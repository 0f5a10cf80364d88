import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import { migrationsUpToDate } from '../../database/migrate';
import { ShutdownState } from './shutdown-state';

type Check = 'up' | 'down';

/**
 * A database that accepts connections but never answers (network partition, stuck server) would hold a readiness
 * probe on an idle pooled connection forever: past this delay it is reported down.
 */
export const READY_TIMEOUT_MS = 3000;

@ApiTags('health')
@Controller('health')
@RateLimit() // probes of load balancers and orchestrators
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('live')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary: 'The database answers, every migration is applied and the process is not shutting down',
    description:
      'After SIGTERM this answers 503 `{"status": "draining"}` (for SHUTDOWN_DELAY_MS the other routes are still ' +
      'served), so that a load balancer stops sending before the listener closes.',
  })
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { database: 'up', migrations: 'up' } } } })
  @ApiServiceUnavailableResponse({
    schema: { example: { status: 'error', checks: { database: 'down', migrations: 'down' } } },
  })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks?: Record<string, Check> }> {
    if (this.shutdown.phase !== 'serving') {
      reply.status(503).header('Retry-After', '5');
      return { status: 'draining' };
    }
    const probe = async (): Promise<Record<string, Check>> => {
      try {
        await this.dataSource.query('SELECT 1');
      } catch {
        return { database: 'down', migrations: 'down' };
      }
      const upToDate = await migrationsUpToDate(this.dataSource).catch(() => false);
      return { database: 'up', migrations: upToDate ? 'up' : 'down' };
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Record<string, Check>>((resolve) => {
      timer = setTimeout(() => resolve({ database: 'down', migrations: 'down' }), READY_TIMEOUT_MS);
    });
    const checks = await Promise.race([probe(), timeout]).finally(() => clearTimeout(timer));
    const ok = Object.values(checks).every((c) => c === 'up');
    if (!ok) reply.status(503).header('Retry-After', '5');
    return { status: ok ? 'ok' : 'error', checks };
  }
}
