import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BotTokenVerifier } from '../../common/auth/bot-auth';
import { BotTokensService } from './bot-tokens.service';
import { DiscordBotToken } from './entities/discord-bot-token.entity';

/**
 * The bot tokens alone, with no other dependency: the auth module imports it for its guard (`BotTokenVerifier`), and
 * the Discord module for the organisateurs' routes.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DiscordBotToken])],
  providers: [BotTokensService, { provide: BotTokenVerifier, useExisting: BotTokensService }],
  exports: [BotTokensService, BotTokenVerifier],
})
export class BotTokensModule {}
