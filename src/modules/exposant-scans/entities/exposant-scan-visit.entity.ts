import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from '../../events/entities/event.entity';
import { ExposantScan } from './exposant-scan.entity';

/**
 * Each scan of a lead, append-only, written by the statement that counts it on the lead: the lead keeps only
 * counters, and "visits today" or "visits by hour" need the time of every scan.
 */
@Entity('exposant_scan_visits')
@Index('idx_exposant_scan_visits_event_id_scan_id_scanned_at', ['eventId', 'scanId', 'scannedAt'])
export class ExposantScanVisit {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  scanId: string;

  @ManyToOne(() => ExposantScan, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'scan_id' })
  scan?: ExposantScan;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  scannedAt: Date;
}
