import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';

@Module({
  imports: [AccessModule],
  controllers: [StatsController],
  providers: [StatsService],
})
export class StatsModule {}
