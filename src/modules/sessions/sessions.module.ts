import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoomsModule } from '../rooms/rooms.module';
import { EventSession } from './entities/event-session.entity';

@Module({
  imports: [TypeOrmModule.forFeature([EventSession]), RoomsModule],
  controllers: [],
  providers: [],
  exports: [],
})
export class SessionsModule {}
