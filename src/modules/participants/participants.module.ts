import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AssignmentsModule } from '../assignments/assignments.module';
import { FilesModule } from '../files/files.module';
import { RoomsModule } from '../rooms/rooms.module';
import { UsersModule } from '../users/users.module';
import { BadgeIssuer } from './badge-issuer';
import { Participant } from './entities/participant.entity';
import { RevokedQrCode } from './entities/revoked-qr-code.entity';
import { ParticipantsImportService } from './participants-import.service';
import { ParticipantsController } from './participants.controller';
import { ParticipantsService } from './participants.service';
import { loadQrKey, QR_KEY } from './qr-key';
import { QrController } from './qr.controller';

@Module({
  imports: [
    TypeOrmModule.forFeature([Participant, RevokedQrCode]),
    AssignmentsModule,
    UsersModule,
    RoomsModule,
    FilesModule,
  ],
  controllers: [ParticipantsController, QrController],
  providers: [
    {
      provide: QR_KEY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => loadQrKey(config, (m) => new Logger('Badges').warn(m)),
    },
    BadgeIssuer,
    ParticipantsService,
    ParticipantsImportService,
  ],
  exports: [ParticipantsService, BadgeIssuer],
})
export class ParticipantsModule {}
