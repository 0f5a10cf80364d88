import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AnnoncesService } from './annonces.service';

/**
 * Publishes scheduled annonces when their time comes. Every instance runs it; the claim in `publishDue` makes each
 * annonce go out once. A tick that is still running when the next one is due is not overlapped.
 */
@Injectable()
export class AnnonceScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Annonces');
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly annonces: AnnoncesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.annonceSchedulerIntervalMs === 0) return;
    this.timer = setInterval(() => void this.tick(), this.config.annonceSchedulerIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while ((await this.annonces.publishDue()) === 100) {
        // a full batch: there may be more due
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'Publishing scheduled annonces failed; retrying next tick');
    } finally {
      this.running = false;
    }
  }
}
