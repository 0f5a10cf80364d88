import { applyDecorators, Body, Controller, Get, Header, Headers, HttpCode, Patch, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { AuthContext } from '../../common/auth/auth-context';
import { Authenticated, CurrentUser, Public, SelectionToken } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import { AuthService } from './auth.service';
import {
  ChangePasswordDto,
  DiscordLinkCodeDto,
  EventSelectionResponseDto,
  LoginDto,
  LogoutDto,
  MyEventsDto,
  ProfileDto,
  RefreshDto,
  RegisterDto,
  RegisterResponseDto,
  SelectEventDto,
  SessionResponseDto,
  TokenPairDto,
  UpdateProfileDto,
} from './dto/auth.dto';

const LoginResponses = () =>
  ApiOkResponse({
    description: 'Tokens for 0 or 1 event; for several events a selection token and the list to choose from',
    schema: {
      oneOf: [{ $ref: getSchemaPath(SessionResponseDto) }, { $ref: getSchemaPath(EventSelectionResponseDto) }],
    },
  });

/** Answers with tokens or the caller's badge QR: no cache may keep them. */
const NO_STORE = () => Header('Cache-Control', 'no-store');

/**
 * Password guessing: limited per account (normalized email) and per IP, counted in Redis across instances; while Redis
 * is away these routes fail closed (503 UNAVAILABLE with Retry-After) rather than allow unlimited guesses. They answer
 * tokens, hence no-store.
 */
const LoginLimits = () =>
  applyDecorators(
    NO_STORE(),
    RateLimit('login_ip', 'login_account'),
    ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per account or per IP), with Retry-After' }),
    ApiServiceUnavailableResponse({ description: 'UNAVAILABLE while the rate limits cannot be counted (Redis away)' }),
  );

@ApiTags('auth')
@ApiExtraModels(SessionResponseDto, EventSelectionResponseDto)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Public()
  @LoginLimits()
  @ApiOperation({ summary: 'Create an account (or claim one an organizer created for this email)' })
  @ApiCreatedResponse({ type: RegisterResponseDto })
  register(@Body() dto: RegisterDto, @Headers('user-agent') ua?: string): Promise<RegisterResponseDto> {
    return this.auth.register(dto, ua);
  }

  @Post('login')
  @Public()
  @LoginLimits()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in; INVALID_CREDENTIALS for an unknown email or a wrong password alike' })
  @LoginResponses()
  login(
    @Body() dto: LoginDto,
    @Headers('user-agent') ua?: string,
  ): Promise<SessionResponseDto | EventSelectionResponseDto> {
    return this.auth.login(dto.email, dto.password, ua);
  }

  @Post('token')
  @Public()
  @LoginLimits()
  @HttpCode(200)
  @ApiOperation({ summary: 'Alias of login/' })
  @LoginResponses()
  token(
    @Body() dto: LoginDto,
    @Headers('user-agent') ua?: string,
  ): Promise<SessionResponseDto | EventSelectionResponseDto> {
    return this.auth.login(dto.email, dto.password, ua);
  }

  @Post('select-event')
  @SelectionToken()
  @HttpCode(200)
  @ApiOperation({ summary: 'Choose the event after a multi-event login (bearer: temp_token)' })
  @ApiOkResponse({ type: SessionResponseDto })
  selectEvent(
    @CurrentUser() auth: AuthContext,
    @Body() dto: SelectEventDto,
    @Headers('user-agent') ua?: string,
  ): Promise<SessionResponseDto> {
    return this.auth.selectEvent(auth, dto.event_id, ua);
  }

  @Post('switch-event')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({ summary: 'New token pair for another event of the caller; the current session ends' })
  @ApiOkResponse({ type: SessionResponseDto })
  switchEvent(
    @CurrentUser() auth: AuthContext,
    @Body() dto: SelectEventDto,
    @Headers('user-agent') ua?: string,
  ): Promise<SessionResponseDto> {
    return this.auth.switchEvent(auth, dto.event_id, ua);
  }

  @Get('my-events')
  @Authenticated()
  @ApiOkResponse({ type: MyEventsDto })
  myEvents(@CurrentUser() auth: AuthContext): Promise<MyEventsDto> {
    return this.auth.myEvents(auth);
  }

  @Post('token/refresh')
  @Public()
  @RateLimit('refresh_ip')
  @NO_STORE()
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per IP), with Retry-After' })
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate: the old refresh token is spent; reusing a spent one revokes its whole family' })
  @ApiOkResponse({ type: TokenPairDto })
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refresh);
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: 'End this session: its access and refresh tokens stop working at once' })
  @ApiNoContentResponse()
  async logout(@CurrentUser() auth: AuthContext, @Body() dto: LogoutDto): Promise<void> {
    await this.auth.logout(auth, dto?.refresh);
  }

  @Post('discord-link')
  @Authenticated()
  @NO_STORE()
  @ApiOperation({
    summary: 'A one-time code (10 minutes) to link your Discord account: send `!link <code>` to the event bot',
  })
  @ApiCreatedResponse({ type: DiscordLinkCodeDto })
  discordLink(@CurrentUser() auth: AuthContext): Promise<DiscordLinkCodeDto> {
    return this.auth.discordLinkCode(auth);
  }

  @Get('profile')
  @Authenticated()
  @NO_STORE()
  @ApiOkResponse({ type: ProfileDto })
  profile(@CurrentUser() auth: AuthContext): Promise<ProfileDto> {
    return this.auth.profile(auth);
  }

  @Get('me')
  @Authenticated()
  @NO_STORE()
  @ApiOperation({ summary: 'Alias of profile/' })
  @ApiOkResponse({ type: ProfileDto })
  me(@CurrentUser() auth: AuthContext): Promise<ProfileDto> {
    return this.auth.profile(auth);
  }

  @Patch('profile')
  @Authenticated()
  @NO_STORE()
  @ApiOkResponse({ type: ProfileDto })
  updateProfile(@CurrentUser() auth: AuthContext, @Body() dto: UpdateProfileDto): Promise<ProfileDto> {
    return this.auth.updateProfile(auth, dto);
  }

  @Post('change-password')
  @Authenticated()
  @RateLimit('api_token', 'login_ip', 'password')
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per user and per IP), with Retry-After' })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE while the rate limits cannot be counted (Redis away)' })
  @HttpCode(204)
  @ApiOperation({ summary: 'Change password; every other session of the user is revoked' })
  @ApiNoContentResponse()
  async changePassword(@CurrentUser() auth: AuthContext, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(auth, dto);
  }
}

@ApiTags('auth')
@Controller('users')
export class UsersMeController {
  constructor(private readonly auth: AuthService) {}

  @Get('me')
  @Authenticated()
  @NO_STORE()
  @ApiOperation({ summary: 'Alias of /api/auth/profile/' })
  @ApiOkResponse({ type: ProfileDto })
  me(@CurrentUser() auth: AuthContext): Promise<ProfileDto> {
    return this.auth.profile(auth);
  }
}
