import { Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AnnonceScheduler } from './annonce-scheduler';
import { AnnoncesController } from './annonces.controller';
import { AnnoncesService } from './annonces.service';

@Module({
  imports: [RoomsModule, SessionsModule],
  controllers: [AnnoncesController],
  providers: [AnnoncesService, AnnonceScheduler],
  exports: [AnnoncesService],
})
export class AnnoncesModule {}
