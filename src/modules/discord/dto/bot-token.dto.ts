import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsOptional, IsString, Matches } from 'class-validator';
import { Length } from '../../../common/http/validators';
import { DISCORD_SNOWFLAKE, SNOWFLAKE_MESSAGE } from '../discord-ids';

/** `POST /api/integrations/discord/`. */
export class CreateBotTokenDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Main server bot' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    example: ['1183456789012345678'],
    description: 'Discord channel ids (snowflakes) where the bot speaks for this event',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(DISCORD_SNOWFLAKE, { each: true, message: SNOWFLAKE_MESSAGE })
  channel_ids?: string[];
}

/** A bot token as listed: never the token nor its hash. */
export class BotTokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) channel_ids: string[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) created_by: string | null;
  @ApiProperty() created_at: Date;
  @ApiProperty({ nullable: true, type: Date, description: 'Set once revoked; the token is refused from then on' })
  revoked_at: Date | null;
  @ApiProperty({ nullable: true, type: Date, description: 'Last use, to the minute' })
  last_used_at: Date | null;
}

/** The answer of the creation: the only time the token itself is shown. */
export class CreatedBotTokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Send it as the X-Bot-Token header; shown only in this response', example: 'mpbot_…' })
  token: string;
  @ApiProperty({ type: [String] }) channel_ids: string[];
  @ApiProperty() created_at: Date;
}
