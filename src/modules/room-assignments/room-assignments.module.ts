import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssignmentsModule } from '../assignments/assignments.module';
import { RoomsModule } from '../rooms/rooms.module';
import { RoomAssignment } from './entities/room-assignment.entity';
import { RoomAssignmentsController } from './room-assignments.controller';
import { RoomAssignmentsService } from './room-assignments.service';
import { RoomCurrentStaffController } from './room-current-staff.controller';

/** Staff shifts. Sessions import this module (the per-room status rule), so it must never import sessions. */
@Module({
  imports: [TypeOrmModule.forFeature([RoomAssignment]), RoomsModule, AssignmentsModule],
  controllers: [RoomAssignmentsController, RoomCurrentStaffController],
  providers: [RoomAssignmentsService],
  exports: [RoomAssignmentsService],
})
export class RoomAssignmentsModule {}
