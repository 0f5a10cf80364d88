import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoomAssignment } from './entities/room-assignment.entity';

@Module({
  imports: [TypeOrmModule.forFeature([RoomAssignment])],
  controllers: [],
  providers: [],
  exports: [],
})
export class RoomAssignmentsModule {}
