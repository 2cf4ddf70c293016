import { Module } from '@nestjs/common';
import { NotificationsApi } from './notifications.api';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';

/** Notifications for users and administrators. */
@Module({ providers: [NotificationsRepository, NotificationsService, NotificationsApi], exports: [NotificationsService] })
export class NotificationsModule {}
