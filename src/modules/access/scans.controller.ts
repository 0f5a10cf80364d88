import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser } from '../../common/auth/auth.decorators';
import { ManifestDto } from './dto/offline.dto';
import { MAX_SYNC_SCANS, SyncDto, SyncResultDto } from './dto/scan.dto';
import { DoorRateLimit, Scanners } from './door.controller';
import { OfflineService } from './offline.service';

@ApiTags('doors')
@Controller('scans')
export class ScansController {
  constructor(private readonly offline: OfflineService) {}

  @Get('manifest')
  @Scanners()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Offline data for the caller's rooms: QR hashes (never QR texts), revoked hashes, atelier rights",
  })
  @ApiOkResponse({ type: ManifestDto })
  manifest(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<ManifestDto> {
    return this.offline.manifest(eventId, caller);
  }

  @Post('sync')
  @Scanners()
  @DoorRateLimit()
  @HttpCode(200)
  @ApiOperation({
    summary: `Upload offline scans (at most ${MAX_SYNC_SCANS}); idempotent per (device_id, nonce)`,
    description:
      "Each scan is decided again at its device time, in device-time order; every scan is kept. Results follow the request's order.",
  })
  @ApiOkResponse({ type: SyncResultDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (e.g. a room of another event): nothing is stored' })
  sync(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: SyncDto,
  ): Promise<SyncResultDto> {
    return this.offline.sync(eventId, caller, dto);
  }
}
