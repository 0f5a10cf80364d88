import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentEvent, EventRoles } from '../../common/auth/auth.decorators';
import { GeneratedQrDto, GenerateQrDto } from './dto/participant.dto';
import { ParticipantsService } from './participants.service';

@ApiTags('participants')
@Controller('qr')
export class QrController {
  constructor(private readonly participants: ParticipantsService) {}

  @Post('generate')
  @EventRoles('organisateur')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Issue a new QR for a badge (the previous one is revoked) and return it with its image' })
  @ApiOkResponse({ type: GeneratedQrDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: participant_id is not a badge of this event' })
  generate(@CurrentEvent() eventId: string, @Body() dto: GenerateQrDto): Promise<GeneratedQrDto> {
    return this.participants.generate(eventId, dto.participant_id);
  }
}
