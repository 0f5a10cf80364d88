import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ParticipantsModule } from '../participants/participants.module';
import { RoomAssignmentsModule } from '../room-assignments/room-assignments.module';
import { RoomsModule } from '../rooms/rooms.module';
import { AccessLogService } from './access-log.service';
import { DoorStatsController } from './door-stats.controller';
import { DoorStatsService } from './door-stats.service';
import { DoorController } from './door.controller';
import { DoorService } from './door.service';
import { AccessConflict } from './entities/access-conflict.entity';
import { RoomAccessLog } from './entities/room-access-log.entity';
import { OfflineService } from './offline.service';
import { RoomAccessController } from './room-access.controller';
import { ScansController } from './scans.controller';

@Module({
  imports: [
    TypeOrmModule.forFeature([RoomAccessLog, AccessConflict]),
    RoomsModule,
    RoomAssignmentsModule,
    ParticipantsModule,
  ],
  controllers: [DoorController, RoomAccessController, ScansController, DoorStatsController],
  providers: [DoorService, AccessLogService, OfflineService, DoorStatsService],
  exports: [DoorService, DoorStatsService],
})
export class AccessModule {}
