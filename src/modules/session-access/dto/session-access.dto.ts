import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { IfPresent, QueryBoolean } from '../../../common/http/validators';
import { ListQueryDto, orderingValues, ScopedListQueryDto } from '../../../common/pagination/pagination';
import { PAYMENT_STATUSES, type PaymentStatus } from '../entities/session-access.entity';

/** `numeric(12, 2)`, as a string so that money is never a float. */
const MONEY = /^\d{1,10}(\.\d{1,2})?$/;

const AmountPaid = () =>
  applyDecorators(
    ApiPropertyOptional({ type: String, nullable: true, example: '5000.00', description: "In the event's currency" }),
    IsOptional(),
    IsString({ message: 'amount_paid must be a decimal string like "5000.00"' }),
    Matches(MONEY, { message: 'amount_paid must be a decimal string >= 0 with at most 2 decimals, like "5000.00"' }),
  );

export class CreateSessionAccessDto {
  @ApiProperty({ format: 'uuid', description: 'A badge of the event' })
  @IsUUID('all', { message: 'participant_id must be a UUID' })
  participant_id: string;

  @ApiProperty({ format: 'uuid', description: 'An atelier of the event' })
  @IsUUID('all', { message: 'session_id must be a UUID' })
  session_id: string;

  @ApiProperty({ enum: PAYMENT_STATUSES, description: 'paid and free give access; pending holds a seat' })
  @IsIn(PAYMENT_STATUSES)
  payment_status: PaymentStatus;

  @AmountPaid()
  amount_paid?: string | null;
}

export class UpdateSessionAccessDto {
  @ApiPropertyOptional({ enum: PAYMENT_STATUSES })
  @IfPresent()
  @IsIn(PAYMENT_STATUSES)
  payment_status?: PaymentStatus;

  @AmountPaid()
  amount_paid?: string | null;
}

export const SESSION_ACCESS_ORDERING = ['created_at', 'paid_at'] as const;

export class SessionAccessListQueryDto extends ScopedListQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  session?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  participant?: string;

  @ApiPropertyOptional({ enum: PAYMENT_STATUSES })
  @IsOptional()
  @IsIn(PAYMENT_STATUSES)
  payment_status?: PaymentStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  has_access?: boolean;

  @ApiPropertyOptional({ enum: orderingValues([...SESSION_ACCESS_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...SESSION_ACCESS_ORDERING]))
  ordering?: string;
}

/** `GET /api/my-ateliers/`: pages only. */
export class MyAteliersQueryDto extends ListQueryDto {}

export class SessionAccessDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) participant: string;
  @ApiProperty() participant_name: string;
  @ApiProperty({ format: 'uuid' }) session: string;
  @ApiProperty() session_title: string;
  @ApiProperty({ description: 'True when payment_status is paid or free' }) has_access: boolean;
  @ApiProperty({ enum: PAYMENT_STATUSES }) payment_status: PaymentStatus;
  @ApiProperty({ type: String, nullable: true, example: '5000.00' }) amount_paid: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: Date | null;
  @ApiProperty() created_at: Date;
}

/** An atelier the caller may enter, with what the app shows of it. */
export class MyAtelierDto extends SessionAccessDto {
  @ApiProperty() start_time: Date;
  @ApiProperty() end_time: Date;
  @ApiProperty({ format: 'uuid' }) room: string;
  @ApiProperty() room_name: string;
  @ApiProperty({ enum: ['scheduled', 'live', 'completed', 'cancelled'] }) session_status: string;
}
