import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoomAssignmentsModule } from '../room-assignments/room-assignments.module';
import { RoomsModule } from '../rooms/rooms.module';
import { EventSession } from './entities/event-session.entity';
import { RoomSessionsController } from './room-sessions.controller';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [TypeOrmModule.forFeature([EventSession]), RoomsModule, RoomAssignmentsModule],
  controllers: [SessionsController, RoomSessionsController],
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
