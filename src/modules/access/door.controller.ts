import { applyDecorators, Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import { EntranceScanDto, EntranceScanResultDto, QrVerifyDto, ScanResultDto, VerifyAccessDto } from './dto/scan.dto';
import { DoorService } from './door.service';

/** Who scans at doors. */
export const Scanners = () => EventRoles('organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges');

/**
 * The door limit, per session of a scanning device, counted in memory and added up in Redis in the background (no I/O
 * per scan), so that a Redis outage never stops a door.
 */
export const DoorRateLimit = () =>
  applyDecorators(
    RateLimit('door'),
    ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per scanning session), with Retry-After' }),
  );

const NONCE_REUSED = () =>
  ApiConflictResponse({ description: 'NONCE_REUSED: this (device_id, nonce) already answered another scan' });

const DECISION = {
  summary: 'Door decision for a scanned badge',
  description:
    'Answers 200 for every decision (granted or denied, with a stable reason_code), and logs it. A repeated ' +
    '(device_id, nonce) returns the first answer and changes nothing. A controller or room manager with room shifts ' +
    'may scan only at the rooms of their current shift (403 otherwise).',
};

@ApiTags('doors')
@Controller()
@DoorRateLimit()
export class DoorController {
  constructor(private readonly door: DoorService) {}

  @Post('rooms/:id/verify_access')
  @Scanners()
  @HttpCode(200)
  @ApiOperation(DECISION)
  @NONCE_REUSED()
  @ApiOkResponse({ type: ScanResultDto })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: not your role, or not your room now' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  verifyAccess(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() roomId: string,
    @Body() dto: VerifyAccessDto,
  ): Promise<ScanResultDto> {
    return this.door.verify(eventId, roomId, dto, caller);
  }

  @Post('qr/verify')
  @Scanners()
  @HttpCode(200)
  @ApiOperation({ ...DECISION, summary: 'Door decision, with the room in the body' })
  @NONCE_REUSED()
  @ApiOkResponse({ type: ScanResultDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  qrVerify(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: QrVerifyDto,
  ): Promise<ScanResultDto> {
    const { room_id: roomId, ...scan } = dto;
    return this.door.verify(eventId, roomId, scan, caller);
  }

  @Post('participants/scan')
  @Scanners()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Entrance check-in (no room), as the earlier mobile app calls it',
    description: 'The first granted scan checks the badge in; logged like door scans, with no room.',
  })
  @NONCE_REUSED()
  @ApiOkResponse({ type: EntranceScanResultDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  entrance(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: EntranceScanDto,
  ): Promise<EntranceScanResultDto> {
    return this.door.entrance(eventId, dto, caller);
  }
}
