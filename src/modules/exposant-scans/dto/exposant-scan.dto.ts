import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { IfPresent, MaxLength } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import { MAX_LEAD_NOTES, MAX_RATING, MIN_RATING } from '../entities/exposant-scan.entity';

const Notes = () =>
  applyDecorators(
    IsString(),
    MaxLength(MAX_LEAD_NOTES, { message: `notes must be at most ${MAX_LEAD_NOTES} characters` }),
  );

const Rating = () =>
  applyDecorators(
    IsInt({ message: `rating must be an integer from ${MIN_RATING} to ${MAX_RATING}` }),
    Min(MIN_RATING),
    Max(MAX_RATING),
  );

/** `POST /api/exposant/scan/`: the scanned badge, and optionally what to note on the lead at once. */
export class ScanLeadDto {
  @ApiProperty({ maxLength: 512, description: "The scanned QR text of the visitor's badge" })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  qr_data: string;

  @ApiPropertyOptional({ maxLength: MAX_LEAD_NOTES, description: 'Replaces the notes of the lead when given' })
  @IfPresent()
  @Notes()
  notes?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: MIN_RATING,
    maximum: MAX_RATING,
    description: 'Replaces the rating of the lead when given',
  })
  @IfPresent()
  @Rating()
  rating?: number;
}

/** `PATCH /api/exposant/scans/{id}/`: null clears a field, an absent field is kept. */
export class UpdateLeadDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_LEAD_NOTES })
  @IsOptional()
  @Notes()
  notes?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: MIN_RATING, maximum: MAX_RATING })
  @IsOptional()
  @Rating()
  rating?: number | null;
}

export const LEAD_ORDERING = ['last_scanned_at', 'first_scanned_at', 'scan_count', 'rating', 'full_name'] as const;

/** `GET /api/exposant/scans/`: `search` matches the visitor's name or badge id. */
export class LeadListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ enum: orderingValues([...LEAD_ORDERING]), default: '-last_scanned_at' })
  @IsOptional()
  @IsIn(orderingValues([...LEAD_ORDERING]))
  ordering?: string;
}

export class LeadParticipantDto {
  @ApiProperty({ format: 'uuid', description: "The visitor's badge (participant) id" }) id: string;
  @ApiProperty() full_name: string;
  @ApiProperty({ example: 'K7QX-3MPA' }) badge_id: string;
  @ApiPropertyOptional({ description: 'Only when the visitor shares their contact with exhibitors' }) email?: string;
}

export class LeadDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: LeadParticipantDto }) participant: LeadParticipantDto;
  @ApiProperty({ type: 'integer', description: 'How many times the exhibitor scanned this badge' }) scan_count: number;
  @ApiProperty() first_scanned_at: Date;
  @ApiProperty() last_scanned_at: Date;
  @ApiProperty({ type: String, nullable: true }) notes: string | null;
  @ApiProperty({ type: 'integer', nullable: true, minimum: MIN_RATING, maximum: MAX_RATING }) rating: number | null;
}

export class HourVisitsDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 23, description: 'UTC hour' }) hour: number;
  @ApiProperty({ type: 'integer' }) visits: number;
}

export class LeadStatsDto {
  @ApiProperty({ type: 'integer', description: 'Every scan, repeats included (the sum of scan_count)' })
  total_visits: number;
  @ApiProperty({ type: 'integer', description: 'Distinct visitors scanned (the leads)' }) unique_visitors: number;
  @ApiProperty({ type: 'integer', description: 'Scans since 00:00 UTC, repeats included' }) today_visits: number;
  @ApiProperty({ type: [HourVisitsDto], description: "Today's scans by UTC hour, all 24 hours" })
  by_hour: HourVisitsDto[];
}
