import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AssignmentsModule } from '../assignments/assignments.module';
import { BotTokensModule } from '../discord/bot-tokens.module';
import { EventsModule } from '../events/events.module';
import { ParticipantsModule } from '../participants/participants.module';
import { UsersModule } from '../users/users.module';
import { AuthController, UsersMeController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { AuthSession } from './entities/auth-session.entity';
import { RefreshToken } from './entities/refresh-token.entity';
import { SessionStateCache } from './session-state.cache';
import { SessionsService } from './sessions.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([AuthSession, RefreshToken]),
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // A KeyObject made once: given the secret as a string, jsonwebtoken first tries to read it as a public key and
        // catches the failure, on every verify (16% of a door scan's CPU in a profile).
        const key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
        return { secretOrKeyProvider: () => key, signOptions: { algorithm: 'HS256' } };
      },
    }),
    UsersModule,
    EventsModule,
    AssignmentsModule,
    ParticipantsModule,
    BotTokensModule,
  ],
  controllers: [AuthController, UsersMeController],
  providers: [
    AuthService,
    SessionsService,
    SessionStateCache,
    AuthGuard,
    { provide: APP_GUARD, useExisting: AuthGuard },
  ],
  exports: [SessionsService, AuthGuard],
})
export class AuthModule {}
