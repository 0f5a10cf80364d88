import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID, ValidateIf } from 'class-validator';
import { IfPresent, IsoDateTime, Length, MaxLength } from '../../../common/http/validators';
import { ScopedListQueryDto } from '../../../common/pagination/pagination';
import { ANNONCE_TARGETS, DESCRIPTION_MAX, TITLE_MAX, type AnnonceTarget } from '../entities/annonce.entity';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateAnnonceDto {
  @ApiProperty({ maxLength: TITLE_MAX, description: 'Plain text' })
  @Transform(trimmed)
  @IsString()
  @Length(1, TITLE_MAX)
  title: string;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX, description: 'Plain text (clients must not render it as HTML)' })
  @IfPresent()
  @IsString()
  @MaxLength(DESCRIPTION_MAX)
  description?: string;

  @ApiPropertyOptional({ enum: ANNONCE_TARGETS, default: 'all' })
  @IfPresent()
  @IsIn(ANNONCE_TARGETS)
  target?: AnnonceTarget;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Only the people inside these rooms' })
  @IfPresent()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  target_rooms?: string[];

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    description: 'Only the people with access to these sessions (paid ateliers: their rights; others: every badge)',
  })
  @IfPresent()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  target_sessions?: string[];

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Absent or past: now' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsoDateTime()
  publish_at?: Date | null;
}

/** PATCH: the fields sent; `null` is refused except for `publish_at` (now). */
export class UpdateAnnonceDto extends PartialType(CreateAnnonceDto, { skipNullProperties: false }) {}

export class AnnonceListQueryDto extends ScopedListQueryDto {}

export class AnnonceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) event: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ANNONCE_TARGETS }) target: AnnonceTarget;
  @ApiProperty({ type: [String] }) target_rooms: string[];
  @ApiProperty({ type: [String] }) target_sessions: string[];
  @ApiProperty({ type: String, format: 'date-time' }) publish_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) published_at: string | null;
  @ApiProperty({ format: 'uuid', nullable: true }) created_by: string | null;
  @ApiProperty({ nullable: true }) created_by_name: string | null;
  @ApiProperty() is_read: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time' }) updated_at: string;
}
