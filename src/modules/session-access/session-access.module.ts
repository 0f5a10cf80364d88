import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ParticipantsModule } from '../participants/participants.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionAccess } from './entities/session-access.entity';
import { SessionAccessController } from './session-access.controller';
import { SessionAccessService } from './session-access.service';

@Module({
  imports: [TypeOrmModule.forFeature([SessionAccess]), ParticipantsModule, SessionsModule],
  controllers: [SessionAccessController],
  providers: [SessionAccessService],
  exports: [SessionAccessService],
})
export class SessionAccessModule {}
