import { Module } from '@nestjs/common';
import { AttendanceModule } from '../modules/attendance/attendance.module';
import { AuthModule } from '../modules/auth/auth.module';
import { RoomsModule } from '../modules/rooms/rooms.module';
import { SessionsModule } from '../modules/sessions/sessions.module';
import { UsersModule } from '../modules/users/users.module';
import { RealtimeBroadcaster } from './realtime.broadcaster';
import { RealtimeGateway } from './realtime.gateway';

@Module({
  imports: [AuthModule, SessionsModule, RoomsModule, UsersModule, AttendanceModule],
  providers: [RealtimeGateway, RealtimeBroadcaster],
})
export class RealtimeModule {}
