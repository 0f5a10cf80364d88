import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssignmentsModule } from '../assignments/assignments.module';
import { FilesModule } from '../files/files.module';
import { RegistrationsModule } from '../registrations/registrations.module';
import { RoomsModule } from '../rooms/rooms.module';
import { Event } from './entities/event.entity';
import { EventFilesController } from './event-files.controller';
import { EventFilesService } from './event-files.service';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

@Module({
  imports: [TypeOrmModule.forFeature([Event]), AssignmentsModule, RoomsModule, FilesModule, RegistrationsModule],
  controllers: [EventsController, EventFilesController],
  providers: [EventsService, EventFilesService],
  exports: [EventsService],
})
export class EventsModule {}
