import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ExposantScanVisit } from './entities/exposant-scan-visit.entity';
import { ExposantScan } from './entities/exposant-scan.entity';
import { ExposantScansController } from './exposant-scans.controller';
import { ExposantScansService } from './exposant-scans.service';

@Module({
  imports: [TypeOrmModule.forFeature([ExposantScan, ExposantScanVisit])],
  controllers: [ExposantScansController],
  providers: [ExposantScansService],
})
export class ExposantScansModule {}
