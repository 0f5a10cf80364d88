import { Module } from '@nestjs/common';
import { AssignmentsModule } from '../assignments/assignments.module';
import { AttendanceModule } from '../attendance/attendance.module';
import { EventsModule } from '../events/events.module';
import { ParticipantsModule } from '../participants/participants.module';
import { RegistrationsModule } from '../registrations/registrations.module';
import { UsersModule } from '../users/users.module';
import { BotTokensModule } from './bot-tokens.module';
import { DiscordController } from './discord.controller';
import { DiscordService } from './discord.service';
import { IntegrationsController } from './integrations.controller';

@Module({
  imports: [
    BotTokensModule,
    UsersModule,
    AssignmentsModule,
    RegistrationsModule,
    ParticipantsModule,
    AttendanceModule,
    EventsModule,
  ],
  controllers: [IntegrationsController, DiscordController],
  providers: [DiscordService],
})
export class DiscordModule {}
