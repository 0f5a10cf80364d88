import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { loggerOptions } from './common/http/request-log';
import type { AppConfig } from './config/app-config';
import { DomainEventsModule } from './common/events/domain-events';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { AccessModule } from './modules/access/access.module';
import { AnnoncesModule } from './modules/annonces/annonces.module';
import { AssignmentsModule } from './modules/assignments/assignments.module';
import { AttendanceModule } from './modules/attendance/attendance.module';
import { AuthModule } from './modules/auth/auth.module';
import { DiscordModule } from './modules/discord/discord.module';
import { EventsModule } from './modules/events/events.module';
import { ExposantScansModule } from './modules/exposant-scans/exposant-scans.module';
import { HealthModule } from './modules/health/health.module';
import { ParticipantsModule } from './modules/participants/participants.module';
import { QuestionsModule } from './modules/questions/questions.module';
import { RegistrationsModule } from './modules/registrations/registrations.module';
import { RoomAssignmentsModule } from './modules/room-assignments/room-assignments.module';
import { RoomsModule } from './modules/rooms/rooms.module';
import { SessionAccessModule } from './modules/session-access/session-access.module';
import { SessionsModule } from './modules/sessions/sessions.module';
import { StatsModule } from './modules/stats/stats.module';
import { UsersModule } from './modules/users/users.module';
import { RealtimeModule } from './realtime/realtime.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DomainEventsModule,
        LoggerModule.forRoot({
          pinoHttp: loggerOptions(config.logLevel),
          // The request log is a Fastify hook (common/http/request-log.ts), not this module's middleware.
          forRoutes: [],
        }),
        TypeOrmModule.forRoot(
          dataSourceOptions(databaseUrl, {
            queryTimeoutMs: config.dbQueryTimeoutMs,
            connectTimeoutMs: config.dbConnectTimeoutMs,
          }),
        ),
        UsersModule,
        AssignmentsModule,
        EventsModule,
        AuthModule,
        RoomsModule,
        SessionsModule,
        RoomAssignmentsModule,
        ParticipantsModule,
        SessionAccessModule,
        RegistrationsModule,
        AccessModule,
        ExposantScansModule,
        StatsModule,
        AnnoncesModule,
        QuestionsModule,
        AttendanceModule,
        DiscordModule,
        HealthModule,
        RealtimeModule,
        // After AuthModule: its guard runs after the auth guard, so that per-session limits see the caller.
        RateLimitModule,
      ],
    };
  }
}
