import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ListQueryDto, orderingValues, SearchParam } from '../../../common/pagination/pagination';
import { REGISTRATION_STATUSES, type RegistrationStatus } from '../entities/event-registration.entity';

export const REGISTRATION_ORDERING = ['created_at', 'updated_at'] as const;

/** The caller's own registration. */
export class RegistrationStateDto {
  @ApiProperty({ enum: ['confirmed', 'waitlisted'] }) status: RegistrationStatus;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: '1-based place in the waiting list; null when confirmed',
    example: null,
  })
  position: number | null;
}

/** A registration as the organisateurs see it. */
export class RegistrationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user: string;
  @ApiProperty() user_name: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: REGISTRATION_STATUSES }) status: RegistrationStatus;
  @ApiProperty({ type: Number, nullable: true, description: 'Place in the waiting list when waitlisted, else null' })
  position: number | null;
  @ApiProperty() created_at: Date;
  @ApiProperty({ description: 'Last change of status' }) updated_at: Date;
}

/** `GET /api/events/{id}/registrations/`: confirmed first, then the waiting list in order, then cancelled. */
export class RegistrationListQueryDto extends ListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ enum: REGISTRATION_STATUSES })
  @IsOptional()
  @IsIn(REGISTRATION_STATUSES)
  status?: RegistrationStatus;

  @ApiPropertyOptional({ enum: orderingValues([...REGISTRATION_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...REGISTRATION_ORDERING]))
  ordering?: string;
}
