import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FilesModule } from '../files/files.module';
import { UsersModule } from '../users/users.module';
import { AssignmentsService } from './assignments.service';
import { UserEventAssignment } from './entities/user-event-assignment.entity';
import { UserAssignmentsController } from './user-assignments.controller';

@Module({
  imports: [TypeOrmModule.forFeature([UserEventAssignment]), UsersModule, FilesModule],
  controllers: [UserAssignmentsController],
  providers: [AssignmentsService],
  exports: [AssignmentsService],
})
export class AssignmentsModule {}
