import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../../common/auth/auth.decorators';
import { migrationsUpToDate } from '../../database/migrate';

type Check = 'up' | 'down';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
  @ApiOperation({ summary: 'The database answers and every migration is applied' })
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { database: 'up', migrations: 'up' } } } })
  @ApiServiceUnavailableResponse({
    schema: { example: { status: 'error', checks: { database: 'down', migrations: 'down' } } },
  })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = { database: 'down', migrations: 'down' };
    try {
      await this.dataSource.query('SELECT 1');
      checks.database = 'up';
      checks.migrations = (await migrationsUpToDate(this.dataSource)) ? 'up' : 'down';
    } catch {
      // reported as down below
    }
    const ok = Object.values(checks).every((c) => c === 'up');
    if (!ok) reply.status(503).header('Retry-After', '5');
    return { status: ok ? 'ok' : 'error', checks };
  }
}
