import { Param, type PipeTransform } from '@nestjs/common';
import { validationFailed } from '../../common/errors/app.exception';

/** A Discord id (snowflake): 17 to 20 digits. */
export const DISCORD_SNOWFLAKE = /^\d{17,20}$/;
export const SNOWFLAKE_MESSAGE = '$property must be a Discord id (17 to 20 digits)';

class SnowflakePipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (!DISCORD_SNOWFLAKE.test(value)) {
      throw validationFailed({ [this.name]: ['Must be a Discord id (17 to 20 digits)'] }, `Malformed ${this.name}`);
    }
    return value;
  }
}

/** A Discord id path parameter; anything else is a 400 VALIDATION_FAILED naming the parameter. */
export const SnowflakeParam = (name: string) => Param(name, new SnowflakePipe(name));
