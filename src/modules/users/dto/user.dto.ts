import { ApiProperty } from '@nestjs/swagger';
import type { User } from '../entities/user.entity';
import { fullName } from '../users.service';

/** The public `user` object of API.md. */
export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String, description: 'null for a Discord-only account' }) email: string | null;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
  @ApiProperty() full_name: string;

  static from(user: User): UserDto {
    return {
      id: user.id,
      email: user.email,
      first_name: user.firstName,
      last_name: user.lastName,
      full_name: fullName(user),
    };
  }
}
